import t from 'tap';
import { Exception, type RegisterWrite } from '../../firmware/modbus/codec.js';
import { handlePdu, type RegisterModel } from '../../firmware/modbus/pdu.js';
import { REGISTERS, type RegisterValues } from '../../firmware/modbus/registers.js';

/** A model that records writes, with every register at a known value. */
function recordingModel(refuse: number | null = null): RegisterModel & { writes: RegisterWrite[][] } {
  const values = Object.fromEntries(REGISTERS.map((d, i) => [d.name, d.type === 'string' ? 'ABC' : 100 + i])) as unknown as RegisterValues;
  const writes: RegisterWrite[][] = [];
  return {
    writes,
    values: () => values,
    write: (w) => {
      if (refuse !== null) return refuse as 3;
      writes.push([...w]);
      return null;
    },
  };
}

const pdu = (...bytes: number[]) => Buffer.from(bytes);

t.test('FC03 returns the registers with a byte count', async (t) => {
  const model = recordingModel();
  const result = await handlePdu(pdu(0x03, 0x1f, 0x9c, 0x00, 0x02), model); // 8092, 2 registers
  t.equal(result.ok, true);
  const i8092 = REGISTERS.findIndex((d) => d.address === 8092);
  t.same([...result.response], [0x03, 4, 0, 100 + i8092, 0, 100 + i8092 + 1]);
});

t.test('every function code but 03, 06 and 16 is exception 01', async (t) => {
  for (const fc of [0x01, 0x02, 0x04, 0x05, 0x07, 0x0f, 0x11, 0x17, 0x2b, 0x7f]) {
    const result = await handlePdu(pdu(fc, 0x1f, 0x9c, 0x00, 0x01), recordingModel());
    t.same([...result.response], [fc | 0x80, Exception.IllegalFunction], `FC ${fc}`);
    t.equal(result.ok, false);
  }
});

t.test('malformed PDUs get exception 03, reads leaving the window 02', async (t) => {
  t.same([...(await handlePdu(pdu(0x03, 0x1f, 0x9c, 0x00), recordingModel())).response], [0x83, 3], 'short FC03');
  t.same([...(await handlePdu(pdu(0x03, 0x1f, 0x9c, 0x00, 0x01, 0x00), recordingModel())).response], [0x83, 3], 'long FC03');
  t.same([...(await handlePdu(pdu(0x03, 0x1f, 0x40, 0x00, 0x00), recordingModel())).response], [0x83, 3], 'quantity 0');
  t.same([...(await handlePdu(pdu(0x03, 0x1f, 0x3f, 0x00, 0x01), recordingModel())).response], [0x83, 2], 'read at 7999');
  t.same([...(await handlePdu(pdu(0x03, 0x1f, 0xbf, 0x00, 0x02), recordingModel())).response], [0x83, 2], '8127 + 1 more');
  t.same([...(await handlePdu(pdu(0x06, 0x1f, 0x9d), recordingModel())).response], [0x86, 3], 'short FC06');
  t.same(
    [...(await handlePdu(pdu(0x10, 0x1f, 0x9d, 0x00, 0x02, 0x03, 0, 1, 0), recordingModel())).response],
    [0x90, 3],
    'byte count not 2 × quantity',
  );
  t.same(
    [...(await handlePdu(pdu(0x10, 0x1f, 0x9d, 0x00, 0x01, 0x02, 0), recordingModel())).response],
    [0x90, 3],
    'data shorter than the byte count',
  );
  t.same([...(await handlePdu(pdu(), recordingModel())).response], [0x80, 1], 'empty PDU');
});

t.test('FC06 echoes the request; FC16 answers address and quantity; both reach the model', async (t) => {
  const model = recordingModel();
  const single = await handlePdu(pdu(0x06, 0x1f, 0x9d, 0x00, 0xa0), model); // 8093 = 160
  t.same([...single.response], [0x06, 0x1f, 0x9d, 0x00, 0xa0]);
  const multi = await handlePdu(pdu(0x10, 0x1f, 0x9d, 0x00, 0x02, 0x04, 0x00, 0x4b, 0x00, 0x01), model); // 8093 = 75, 8094 = 1
  t.same([...multi.response], [0x10, 0x1f, 0x9d, 0x00, 0x02]);
  t.same(model.writes, [
    [{ name: 'currentLimit', raw: 160 }],
    [
      { name: 'currentLimit', raw: 75 },
      { name: 'chargingEnable', raw: 1 },
    ],
  ]);
});

t.test('refused writes change nothing and answer with the exception', async (t) => {
  const model = recordingModel();
  t.same([...(await handlePdu(pdu(0x06, 0x1f, 0x9c, 0x00, 0x01), model)).response], [0x86, 2], '8092 is read-only');
  t.same([...(await handlePdu(pdu(0x06, 0x1f, 0x9e, 0x00, 0x02), model)).response], [0x86, 3], '8094 = 2');
  t.same(model.writes, []);
  const refusing = recordingModel(Exception.IllegalDataValue);
  t.same([...(await handlePdu(pdu(0x06, 0x1f, 0x97, 0x00, 0x01), refusing)).response], [0x86, 3], 'the model refuses 8087');
  const failing: RegisterModel = { values: recordingModel().values, write: () => Promise.reject(new Error('disk full')) };
  t.same([...(await handlePdu(pdu(0x06, 0x1f, 0x68, 0x00, 0x05), failing)).response], [0x86, 4], 'a failed persist is 04');
});
