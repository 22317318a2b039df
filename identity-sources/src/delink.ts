/**
 * What a source answers to a delink (unlink) request. ACCEPTED: the source will clear the linkage
 * and confirm it through its own feed (an UNLINK event), as the real NIMC and NIBSS do; REFUSED:
 * the source will not (its reason is shown to the Admin, who may retry). A source that cannot be
 * reached throws SourceError instead: that is not an answer.
 */
export type DelinkAnswer =
  | { outcome: 'ACCEPTED'; reference: string }
  | { outcome: 'REFUSED'; reason: string };

/** One linkage to clear, as the hub knows it: never the raw identifier, only its last four digits. */
export interface DelinkOrder {
  msisdn: string;
  /** The masked identifier (`*******1234`): the source matches it among the number's linkages. */
  masked: string;
  /** When the linkage was made (YYYY-MM-DD), so the source clears the previous owner's one only. */
  linkDate: string;
  reason: string;
  /** Stable per request, attempt and linkage: a retried call is answered, not acted on, twice. */
  idempotencyKey: string;
}

export const lastFour = (masked: string): string => masked.slice(-4);
