/** The firmware's version; a test keeps it equal to package.json's. */
export const FIRMWARE_VERSION = '0.1.0';

/** `major.minor.patch` as one number: major << 24 | minor << 16 | patch (Modbus 8004). */
export function packedVersion(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return ((major & 0xff) * 0x1000000 + (minor & 0xff) * 0x10000 + (patch & 0xffff)) >>> 0;
}
