/**
 * Rebuilding a loan's state from its ledger: the opening state (at disbursement) and the money
 * events in date order. The loans service uses it when a transaction is rebooked to another date
 * or deleted (reversed): every later allocation may change, so it replays rather than patches.
 */
import { parseIsoDate } from "../dates";
import { FinanceInputError } from "../errors";
import { lendingProgramFor } from "../programs";
import type { DecimalInput, IsoDate, LoanState } from "../types";
import { refundCredit } from "./creditRefund";
import { assessFee } from "./fees";
import { drawOnLine, generateStatement } from "./lineOfCredit";
import { resetVariableRate, type RateResetInput } from "./variableRate";

export type LedgerEvent =
  | { type: "payment"; date: IsoDate; amount: DecimalInput; id?: string }
  | { type: "fee"; date: IsoDate; amount: DecimalInput; fee_type: string; id?: string }
  | { type: "draw"; date: IsoDate; amount: DecimalInput; id?: string }
  | { type: "credit_refund"; date: IsoDate; amount: DecimalInput; id?: string }
  | { type: "statement"; date: IsoDate; due_date?: IsoDate | null; id?: string }
  | ({ type: "rate_reset"; date: IsoDate; id?: string } & Omit<RateResetInput, "reset_date">);

export interface ReplayStep {
  event: LedgerEvent;
  result: unknown;
}

/** Applies the events oldest first (events on one date keep their given order). */
export function replayLedger(opening: LoanState, events: readonly LedgerEvent[], allocationOrder?: readonly string[] | null): { state: LoanState; steps: ReplayStep[] } {
  const ordered = events
    .map((event, i) => ({ event, i, n: parseIsoDate(event.date, `events[${i}].date`).n }))
    .sort((a, b) => a.n - b.n || a.i - b.i);
  const program = lendingProgramFor(opening.program_type);
  let state = opening;
  const steps: ReplayStep[] = [];
  for (const { event } of ordered) {
    let result: unknown;
    switch (event.type) {
      case "payment": {
        const r = program.applyPayment(state, { amount: event.amount, date: event.date }, allocationOrder);
        state = r.state;
        result = r;
        break;
      }
      case "fee": {
        const r = assessFee(state, event);
        state = r.state;
        result = r;
        break;
      }
      case "draw": {
        const r = drawOnLine(state, event);
        state = r.state;
        result = r;
        break;
      }
      case "credit_refund": {
        const r = refundCredit(state, event);
        state = r.state;
        result = r;
        break;
      }
      case "statement": {
        const r = generateStatement(state, { statement_date: event.date, due_date: event.due_date });
        state = r.state;
        result = r.statement;
        break;
      }
      case "rate_reset": {
        const r = resetVariableRate(state, { ...event, reset_date: event.date });
        state = r.state;
        result = r.modification;
        break;
      }
      default:
        throw new FinanceInputError(`unknown ledger event type '${(event as { type: string }).type}'`, "type");
    }
    steps.push({ event, result });
  }
  return { state, steps };
}
