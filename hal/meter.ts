/** One reading of the energy meter in the car's supply. Arrays are per phase: L1, L2, L3. */
export interface MeterReading {
  /** Energy imported since the meter was made, Wh. */
  readonly energyWh: number;
  /** Active power, W. */
  readonly powerW: number;
  readonly currentsA: readonly [number, number, number];
  readonly voltagesV: readonly [number, number, number];
  /** When the reading was taken (clock ms). */
  readonly atMs: number;
}

export interface Meter {
  /** The most recent reading, or null when the meter has never answered. */
  latest(): MeterReading | null;
  close(): void;
  /** Present when the meter signs readings for billing (a calibration-law meter). */
  readonly signing?: SigningMeter;
}

/**
 * How the driver identified himself, as OCMF's Identification Type (IT, OCMF table 17) names it:
 * an RFID card UID (ISO14443), an idTag the central system gave (RemoteStart: CENTRAL), one the
 * box made up itself (`ocpp.fixedIdTag`: LOCAL).
 */
export type IdentificationType = 'ISO14443' | 'CENTRAL' | 'LOCAL';

export interface Identification {
  readonly idTag: string;
  readonly type: IdentificationType;
}

/** Who the meter is (BootNotification's meterType and meterSerialNumber) and the key it signs with. */
export interface SigningMeterIdentity {
  /** OCPP 1.6 meterType (at most 25 characters). */
  readonly meterType: string;
  /** OCPP 1.6 meterSerialNumber (at most 25 characters). */
  readonly meterSerialNumber: string;
  /** The public key the records verify with, PEM (SubjectPublicKeyInfo). */
  readonly publicKeyPem: string;
}

/**
 * A calibration-law meter that signs a transaction's begin and end readings (CONTRACT §9). Its
 * records are OCMF strings, `OCMF|{payload}|{signature}`, built and signed by the meter; whoever
 * carries them passes them on byte for byte. Every call may fail or never answer: the caller bounds it.
 */
export interface SigningMeter {
  identity(): Promise<SigningMeterIdentity>;
  /** Begins the meter's transaction for `identification`; resolves with the signed begin record. Rejects while one is open. */
  beginTransaction(identification: Identification): Promise<string>;
  /** Ends the open transaction; resolves with the signed end record, or null when none was open. */
  endTransaction(): Promise<string | null>;
}
