/** DESIGN §3 due dates: monthly from first_payment_date, same day of month, clamped to month end. */
import { addMonthsClamped, type CivilDate } from "../dates";

export function monthlyDueDates(firstPayment: CivilDate, count: number): CivilDate[] {
  const out = new Array<CivilDate>(count);
  for (let k = 0; k < count; k++) out[k] = k === 0 ? firstPayment : addMonthsClamped(firstPayment, k);
  return out;
}
