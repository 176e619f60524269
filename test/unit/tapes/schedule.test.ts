import { isDue, isValidSchedule } from "../../../shared/tapes/schedule";

describe("isDue (DESIGN.md §11 schedules)", () => {
  it("daily is due every day; on_demand never", () => {
    expect(isDue("daily", "2026-02-28")).toBe(true);
    expect(isDue("on_demand", "2026-02-28")).toBe(false);
  });
  it("weekly:<day> on that weekday only", () => {
    expect(isDue("weekly:mon", "2026-11-30")).toBe(true); // a Monday
    expect(isDue("weekly:mon", "2026-12-01")).toBe(false);
    expect(isDue("weekly:sun", "2026-11-29")).toBe(true);
  });
  it("monthly:<n> on that day; monthly:last on the month's last day, leap years included", () => {
    expect(isDue("monthly:15", "2026-03-15")).toBe(true);
    expect(isDue("monthly:15", "2026-03-16")).toBe(false);
    expect(isDue("monthly:last", "2026-02-28")).toBe(true);
    expect(isDue("monthly:last", "2028-02-28")).toBe(false);
    expect(isDue("monthly:last", "2028-02-29")).toBe(true);
    expect(isDue("monthly:last", "2026-04-30")).toBe(true);
    expect(isDue("monthly:28", "2026-02-28")).toBe(true);
  });
  it("refuses malformed schedules", () => {
    for (const s of ["weekly:xyz", "monthly:29", "monthly:0", "hourly", "daily ", "monthly:"]) expect(isValidSchedule(s)).toBe(false);
    expect(isDue("monthly:31", "2026-01-31")).toBe(false);
  });
});
