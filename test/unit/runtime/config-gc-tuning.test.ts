/** GC_TUNING (shared/config.ts): on unless turned off; anything else refused at start. */
import { readConfig } from "../../../shared/config";

test("GC_TUNING is on by default and with 'on', off with 'off', refused otherwise", () => {
  expect(readConfig({}).gcTuning).toBe(true);
  expect(readConfig({ GC_TUNING: "on" }).gcTuning).toBe(true);
  expect(readConfig({ GC_TUNING: "off" }).gcTuning).toBe(false);
  expect(() => readConfig({ GC_TUNING: "false" })).toThrow(/GC_TUNING must be on or off, got "false"/);
});
