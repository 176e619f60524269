/** Events and answers of the rates service: the contract other services code against. */
export const RateEvents = {
  /** A rate was published or corrected: payload IndexRateEvent. */
  indexRatePublished: "index_rate.published",
} as const;

export interface IndexRate {
  id: string;
  index_name: string;
  rate: string;
  effective_date: string;
  trailing_12_month_average: string | null;
  source?: string;
  version: number;
}

export interface IndexRateEvent {
  rate: IndexRate;
  /** "created" for a new observation, "corrected" when an existing one's rate changed. */
  change: "created" | "corrected";
  previous_rate?: string;
}

/** `rates.rateOn` answers the rate in effect on a date, or 404 when none was in effect yet. */
export interface RateOnAnswer extends IndexRate {
  as_of: string;
}
