/**
 * Set by `node build.mjs --version V` (esbuild `define`): firmware images are built with their own
 * version without editing package.json.
 */
declare const __FIRMWARE_VERSION__: string | undefined;

/** The firmware's version; a test keeps the default equal to package.json's. */
export const FIRMWARE_VERSION: string = typeof __FIRMWARE_VERSION__ === 'string' ? __FIRMWARE_VERSION__ : '0.1.0';

/** `major.minor.patch` as one number: major << 24 | minor << 16 | patch (Modbus 8004). */
export function packedVersion(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return ((major & 0xff) * 0x1000000 + (minor & 0xff) * 0x10000 + (patch & 0xffff)) >>> 0;
}

/**
 * A time before this firmware was built: a host clock earlier than this is certainly not set (no
 * RTC, no time source yet). Move it forward with each release.
 */
export const CLOCK_FLOOR_MS = Date.parse('2026-11-01T00:00:00Z');

const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

/** Whether `version` is a plain `major.minor.patch`. */
export function isVersion(version: string): boolean {
  return VERSION.test(version);
}

/** Negative when `a` is older than `b`, 0 when equal, positive when newer (`major.minor.patch`). */
export function compareVersions(a: string, b: string): number {
  const pa = VERSION.exec(a)?.slice(1).map(Number) ?? [];
  const pb = VERSION.exec(b)?.slice(1).map(Number) ?? [];
  for (let i = 0; i < 3; i++) {
    const diff = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (diff !== 0) return diff;
  }
  return 0;
}
