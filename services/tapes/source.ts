/**
 * Where a tape's loans come from: the member loans of the portfolio's snapshot of D, read from
 * `snapshots.portfolioLoans` a page at a time (each answer bounded in bytes, so it fits a NATS
 * message and the run holds one page, never the whole portfolio), counted into the tape's totals
 * on the way through.
 */
import type { TapeLoan } from "../../shared/tapes/catalogue";
import type { TotalsAccumulator } from "../../shared/tapes/reconcile";

/** What a page of `snapshots.portfolioLoans` answers. */
export interface LoanPage {
  loans: TapeLoan[];
  /** The offset of the next page; null after the last. */
  next_offset: number | null;
}

/** Bytes of JSON per answer: half NATS's default 1 MB max_payload, room for the envelope. */
export const PAGE_BYTES = 512 * 1024;

export async function* snapshotPages(
  call: (action: string, params: Record<string, unknown>) => Promise<any>,
  portfolio_id: string,
  business_date: string,
): AsyncGenerator<TapeLoan[]> {
  let offset: number | null = 0;
  while (offset !== null) {
    const page: LoanPage = await call("snapshots.portfolioLoans", { portfolio_id, business_date, offset, max_bytes: PAGE_BYTES });
    if (page.next_offset !== null && page.next_offset <= offset) throw new Error(`snapshots.portfolioLoans did not advance past offset ${offset}`);
    yield page.loans;
    offset = page.next_offset;
  }
}

/** The pages as they pass, each loan added to `acc` (the totals the tape reconciles). */
export async function* counted(pages: AsyncIterable<readonly TapeLoan[]>, acc: TotalsAccumulator): AsyncGenerator<readonly TapeLoan[]> {
  for await (const page of pages) {
    for (const loan of page) acc.add(loan);
    yield page;
  }
}
