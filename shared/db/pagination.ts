/** List paging shared by every list action: `limit` + `offset`, with the total for the UI. */
export const paginationParams = {
  limit: { type: "number", integer: true, min: 1, max: 500, optional: true, default: 50, convert: true },
  offset: { type: "number", integer: true, min: 0, max: 10_000_000, optional: true, default: 0, convert: true },
} as const;

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
