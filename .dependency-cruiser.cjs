/**
 * The import boundaries of the firmware (checked in `npm test` by dependency-cruiser). Rules name
 * folders, not files, so files may move inside a folder. DESIGN: the core (`firmware/`) depends on
 * HAL interfaces only, `board/` and `firmware/main.ts` compose; the protocols stand side by side;
 * the safety core is pure.
 */

/** Protocol folders: each speaks to the outside on its own and must not need another. */
const OCPP = '^firmware/ocpp/';
const MODBUS = '^firmware/modbus/';
const HTTP = '^firmware/http/';
const MQTT = '^firmware/mqtt/';
/** The pure safety core and the pure functions it runs: no I/O, no clock, no state outside its arguments. */
const PURE_CORE = '^firmware/(charging/(session|arbiter|duty)|safety/(supervisor|faults))[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-not-board',
      comment: 'The core sees the board only through the HAL interfaces; firmware/main.ts, the composition root, picks the board.',
      severity: 'error',
      from: { path: '^firmware/', pathNot: '^firmware/main[.]ts$' },
      to: { path: '^(board|hal/linux|hal/sim)/' },
    },
    {
      name: 'ocpp-alone',
      comment: 'OCPP imports no other protocol (a second OCPP version must not need them either).',
      severity: 'error',
      from: { path: OCPP },
      to: { path: [MODBUS, HTTP, MQTT] },
    },
    {
      name: 'modbus-alone',
      comment: 'The Modbus slave imports no other protocol.',
      severity: 'error',
      from: { path: MODBUS },
      to: { path: [OCPP, HTTP, MQTT] },
    },
    {
      name: 'mqtt-types-only',
      comment:
        'MQTT publishes the status the web API shows and takes the energy-manager commands of the Modbus model: it may name their types, never run their code.',
      severity: 'error',
      from: { path: MQTT },
      to: { path: [OCPP, MODBUS, HTTP], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'http-not-modbus',
      comment:
        "The web API configures OCPP and MQTT (it checks their settings with their own code: the documented exception) but not through Modbus's code.",
      severity: 'error',
      from: { path: HTTP },
      to: { path: MODBUS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-not-protocols',
      comment: 'The charging core and the safety supervision know no protocol; the protocols drive them through ports.',
      severity: 'error',
      from: { path: '^firmware/(charging|safety)/' },
      to: { path: [OCPP, MODBUS, HTTP, MQTT] },
    },
    {
      name: 'pure-core-pure',
      comment: 'stepSession, arbitrate and supervise are pure functions with table tests: at run time they reach only each other.',
      severity: 'error',
      from: { path: PURE_CORE },
      to: { pathNot: PURE_CORE, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular-protocols',
      comment: 'No cycle between the protocol folders.',
      severity: 'error',
      from: { path: '^firmware/(ocpp|modbus|http|mqtt)/' },
      to: { circular: true, viaOnly: { path: '^firmware/(ocpp|modbus|http|mqtt)/' }, pathNot: '^firmware/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
