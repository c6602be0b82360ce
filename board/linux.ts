import { readFile } from 'node:fs/promises';
import { OsClockSync } from '../hal/linux/clock-sync.js';
import type { GpioBackend } from '../hal/gpio.js';
import { closeHal, type Hal } from '../hal/hal.js';
import { AdcSampler } from '../hal/linux/adc-sampler.js';
import { Ads1115, type I2cWordBus } from '../hal/linux/ads1115.js';
import { LinuxControlPilot, LinuxProximityPilot, PILOT_PERIOD_NS } from '../hal/linux/control-pilot.js';
import { GpioConnectorLock, GpioContactor, GpioFaultInputs, GpioGridContact, GpioPhaseRelay } from '../hal/linux/gpio-devices.js';
import { openI2cBus } from '../hal/linux/i2c.js';
import { loadOnoffGpio } from '../hal/linux/onoff-gpio.js';
import { Rdm6300Reader } from '../hal/linux/rdm6300-reader.js';
import { SerialRs485Port } from '../hal/linux/rs485-port.js';
import { IskraWm3m4cMeter, openIskraBus, type IskraBus } from '../hal/linux/iskra-wm3m4c-meter.js';
import { openMeterBus, Sdm630Meter, type InputRegisterReader } from '../hal/linux/sdm630-meter.js';
import type { Meter } from '../hal/meter.js';
import type { Clock } from '../hal/clock.js';
import type { Logger } from '../firmware/log.js';
import { FIRMWARE_VERSION } from '../firmware/version.js';
import { SysfsPwm } from '../hal/linux/sysfs-pwm.js';
import { LinuxWatchdog } from '../hal/linux/watchdog.js';
import type { Rs485Settings } from '../hal/rs485-port.js';
import type { Board, BoardContext, BoardFactory } from './board.js';
import { parseBoardFile, type BoardFile } from './board-file.js';

/** What the Linux drivers reach of the kernel; tests hand in fakes at exactly this boundary. */
export interface KernelAccess {
  readonly gpio: GpioBackend;
  openI2c(bus: number): Promise<I2cWordBus & { close(): Promise<void> }>;
  /** The sysfs PWM class folder. */
  readonly pwmRoot: string;
  openMeterBus(settings: Rs485Settings, unitId: number): Promise<InputRegisterReader>;
  openIskraBus(settings: Rs485Settings, unitId: number): Promise<IskraBus>;
}

/** The real kernel: sysfs GPIO (onoff), /dev/i2c-N, /sys/class/pwm, the meter's tty. */
export async function linuxKernel(): Promise<KernelAccess> {
  return { gpio: await loadOnoffGpio(), openI2c: openI2cBus, pwmRoot: '/sys/class/pwm', openMeterBus, openIskraBus };
}

/**
 * A Linux SoM board built from its board file: every HAL interface on the pins, buses and
 * channels the file names. A missing device fails here, at start, with its name.
 */
export async function createLinuxBoard(file: BoardFile, { config, clock, log }: BoardContext, kernel: KernelAccess): Promise<Board> {
  const { gpio } = file;
  const input = (name: string, pin: BoardFile['gpio']['rcdTrip']) =>
    kernel.gpio.input(name, pin, { edges: true, debounceMs: file.inputDebounceMs });
  const i2c = await kernel.openI2c(file.adc.i2cBus);
  const sampler = new AdcSampler(new Ads1115(i2c, { address: file.adc.address, fullScaleV: file.adc.fullScaleV }), {
    fast: [file.adc.cpHigh, file.adc.cpLow],
    slow: [file.adc.pp],
  });
  sampler.onHealth = (err) =>
    err
      ? log.error('ADC conversions failing: the pilot reading is stale', { reason: err.message })
      : log.info('ADC conversions work again');
  await sampler.start().catch((err: Error) => {
    throw new Error(`ADC on I2C bus ${file.adc.i2cBus} at 0x${file.adc.address.toString(16)}: ${err.message}`);
  });
  const serialNumber = (
    await readFile(file.serialNumberFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new Error(`serial number: cannot read ${file.serialNumberFile}: ${err.code ?? err.message}`);
    })
  )
    .replaceAll('\0', '')
    .trim();
  const rfid = new Rdm6300Reader(file.rfid.path, clock);
  const hal: Hal = {
    pilot: new LinuxControlPilot({
      pwm: new SysfsPwm({ root: kernel.pwmRoot, chip: file.pwm.chip, channel: file.pwm.channel, periodNs: PILOT_PERIOD_NS }),
      stateE: gpio.cpStateE ? kernel.gpio.output('CP state E switch', gpio.cpStateE) : null,
      sampler,
      highChannel: file.adc.cpHigh,
      lowChannel: file.adc.cpLow,
      scale: file.adc.cpScale,
    }),
    proximity: new LinuxProximityPilot(sampler, file.adc.pp, { pullUpOhm: file.adc.ppPullUpOhm, supplyV: file.adc.ppSupplyV }),
    contactor: new GpioContactor(kernel.gpio.output('contactor coil', gpio.contactorCoil), input('contactor mirror', gpio.contactorMirror)),
    phaseRelay: new GpioPhaseRelay(kernel.gpio.output('phase relay', gpio.phaseRelay)),
    lock: new GpioConnectorLock(
      kernel.gpio.output('lock actuator', gpio.lockActuator),
      kernel.gpio.input('lock feedback', gpio.lockFeedback),
    ),
    faults: new GpioFaultInputs(input('RCD trip', gpio.rcdTrip), kernel.gpio.output('RCD test', gpio.rcdTest), clock),
    meter: await openMeter(file.meter, kernel, clock, log.child({ module: 'meter' }), serialNumber),
    gridContact: gpio.gridControl ? new GpioGridContact(input('grid operator contact', gpio.gridControl)) : null,
    rfid,
    watchdog: new LinuxWatchdog({ path: file.watchdog }),
    rs485: config.modbus.rtu ? new SerialRs485Port(config.modbus.rtu) : null,
  };
  const clockSync = new OsClockSync(clock, log.child({ module: 'clock' }));
  return {
    name: file.name,
    hal,
    serialNumber,
    clockSynced: () => clockSync.synced,
    async start() {
      clockSync.start();
      await rfid.open();
    },
    async stop() {
      clockSync.stop();
      hal.contactor.setClosed(false);
      hal.pilot.drive({ mode: 'off' });
      await sampler.stop();
      await closeHal(hal);
      await i2c.close();
    },
  };
}

/** The board file's meter; an Iskra signs with the box as its gateway (OCMF GI/GS/GV). */
async function openMeter(
  settings: BoardFile['meter'],
  kernel: KernelAccess,
  clock: Clock,
  log: Logger,
  serialNumber: string,
): Promise<Meter> {
  const { unitId, model, ...serial } = settings;
  if (model === 'iskra-wm3m4c') {
    const gateway = { identification: 'SmartWallbox SW-Controller-1', serial: serialNumber, version: FIRMWARE_VERSION };
    return new IskraWm3m4cMeter({ bus: await kernel.openIskraBus(serial, unitId), clock, log, gateway });
  }
  return new Sdm630Meter({ bus: await kernel.openMeterBus(serial, unitId), clock, log });
}

/** A board factory for a board file bundled with the firmware, on the real kernel. */
export function linuxBoard(raw: unknown, source: string): BoardFactory {
  return async (context) => createLinuxBoard(parseBoardFile(raw, source), context, await linuxKernel());
}
