/** The RFID card reader behind the front panel. */
export interface RfidReader {
  /** Called with the card's UID (hex, upper case) when a card is held to the reader. */
  onCard: ((idTag: string) => void) | null;
  close(): void;
}
