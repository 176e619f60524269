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
  const fetchPage = (offset: number): Promise<LoanPage> => call("snapshots.portfolioLoans", { portfolio_id, business_date, offset, max_bytes: PAGE_BYTES });
  let offset = 0;
  let next: Promise<LoanPage> | null = fetchPage(offset);
  while (next) {
    const page: LoanPage = await next;
    if (page.next_offset !== null && page.next_offset <= offset) throw new Error(`snapshots.portfolioLoans did not advance past offset ${offset}`);
    // The next page is read while this one is written: the snapshots service and the writer
    // overlap instead of waiting on each other (two pages held at most).
    next = page.next_offset === null ? null : fetchPage((offset = page.next_offset));
    // A reader that stops early leaves that request behind: its failure is nobody's to handle.
    next?.catch(() => undefined);
    yield page.loans;
  }
}

/** The pages as they pass, each loan added to `acc` (the totals the tape reconciles). */
export async function* counted(pages: AsyncIterable<readonly TapeLoan[]>, acc: TotalsAccumulator): AsyncGenerator<readonly TapeLoan[]> {
  for await (const page of pages) {
    for (const loan of page) acc.add(loan);
    yield page;
  }
}
