import t from 'tap';
import { parseConfig } from '../../../firmware/config.js';
import { patchConfig } from '../../../firmware/http/config-view.js';
import { HttpError } from '../../../firmware/http/http-io.js';

/**
 * OCA OCPP 1.6 charge-point test cases, Security (whitepaper profiles 1-3), as far as this box's
 * own interfaces bear on them: the AuthorizationKey never follows a URL to another host. The
 * profiles, certificates and events themselves are in test/ocpp/security*.test.ts and tls.test.ts.
 */

const current = parseConfig({ ocpp: { url: 'ws://csms.example.org:9000/ocpp', chargeBoxId: 'box-1', password: 'stored-key' } });

const refusal = (patch: unknown): string | null => {
  try {
    patchConfig(current, patch);
    return null;
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return `${err.status} ${err.message}`;
  }
};

t.test('PATCH /api/config with ocpp.url on another host and no new password: 400 naming ocpp.password', async (t) => {
  t.match(refusal({ ocpp: { url: 'ws://attacker.example.net:9000/ocpp' } }), /^400 ocpp\.password: /);
  t.match(refusal({ ocpp: { url: 'wss://csms.example.org.attacker.net/ocpp' } }), /^400 ocpp\.password: /);
});

t.test(
  'the same host (another port, path or ws → wss) keeps the stored password; a new host with a password given (even "") is taken',
  async (t) => {
    t.equal(refusal({ ocpp: { url: 'wss://csms.example.org/ocpp16' } }), null);
    t.equal(refusal({ ocpp: { url: 'ws://CSMS.example.org:9001/other' } }), null);
    t.equal(refusal({ ocpp: { url: 'ws://other.example.net/ocpp', password: 'new-key' } }), null);
    t.equal(patchConfig(current, { ocpp: { url: 'ws://other.example.net/ocpp', password: 'new-key' } }).config.ocpp?.password, 'new-key');
    t.equal(refusal({ ocpp: { url: 'ws://other.example.net/ocpp', password: '' } }), null);
  },
);

t.test('no stored password: a new host needs none', async (t) => {
  const open = parseConfig({ ocpp: { url: 'ws://csms.example.org/ocpp', chargeBoxId: 'box-1' } });
  t.doesNotThrow(() => patchConfig(open, { ocpp: { url: 'ws://other.example.net/ocpp' } }));
});
