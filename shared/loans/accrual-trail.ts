/** DESIGN.md §7 explain for a stored loan: its ledger as engine events, through the engine's accrualTrail. */
import { accrualTrail as engineTrail, type AccrualTrail } from "../finance";
import { ledgerEventsOf, type ReplayInput } from "./ledger-replay";

export function accrualTrail(input: ReplayInput, from: string, to: string): AccrualTrail {
  return engineTrail(input.opening, ledgerEventsOf(input), from, to, input.allocationOrder);
}
