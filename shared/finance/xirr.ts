/**
 * DESIGN §4 XIRR: the annual rate x with Σ amount_j / (1+x)^((date_j − date_0)/365) = 0.
 *
 * XIRR is a rate, not money, and its root is irrational in general: it is found in binary64
 * floats, like every XIRR (Excel's included) — decimal.js would make each of the many
 * exponentials a hundred times slower for digits the root cannot use. Amounts are read exactly
 * from their decimal strings and summed per day before the search.
 *
 * Robustness:
 * - the search runs on L = ln(1+x), so x stays above −100 % and the terms e^(−t·L) are evaluated
 *   relative to the largest one: no overflow near −100 %, none at rates of millions of percent;
 * - Newton from Excel's guess (10 %), and when Newton does not converge, a sign-change scan over
 *   x from −99.9999999 % to 10^12 % and Brent's method inside the bracket nearest the guess;
 * - no sign change (all flows one sign, or no real root) → null. Loops are bounded; valid input
 *   never throws.
 */
import { parseIsoDate, type IsoDate } from "./dates";
import { Decimal, toDecimal, type DecimalInput } from "./decimal";

export interface CashFlow {
  date: IsoDate;
  amount: DecimalInput;
}

interface Series {
  t: Float64Array; // years from the first date (days / 365)
  a: Float64Array; // amounts, summed per day
}

function buildSeries(flows: readonly CashFlow[]): Series | null {
  const byDay = new Map<number, Decimal>();
  for (let k = 0; k < flows.length; k++) {
    const f = flows[k];
    const day = parseIsoDate(f.date, `flows[${k}].date`).n;
    const amount = toDecimal(f.amount, `flows[${k}].amount`);
    const prev = byDay.get(day);
    byDay.set(day, prev ? prev.plus(amount) : amount);
  }
  const days = [...byDay.keys()].sort((x, y) => x - y);
  const kept = days.filter((d) => !byDay.get(d)!.isZero());
  if (kept.length < 2) return null;
  const day0 = kept[0];
  const t = new Float64Array(kept.length);
  const a = new Float64Array(kept.length);
  let pos = false;
  let neg = false;
  kept.forEach((d, i) => {
    t[i] = (d - day0) / 365;
    a[i] = byDay.get(d)!.toNumber();
    if (a[i] > 0) pos = true;
    if (a[i] < 0) neg = true;
  });
  return pos && neg ? { t, a } : null;
}

/**
 * f(L) = Σ a_j e^(−t_j L) and f'(L), both scaled by e^(−M) where M is the largest exponent, so
 * neither overflows; the scale cancels in Newton's step and does not change the sign.
 */
function evaluate(s: Series, L: number): { f: number; df: number; scale: number } {
  const { t, a } = s;
  const tMax = t[t.length - 1];
  const M = L >= 0 ? 0 : -tMax * L;
  let f = 0;
  let df = 0;
  let scale = 0;
  for (let j = 0; j < t.length; j++) {
    const e = Math.exp(-t[j] * L - M);
    const term = a[j] * e;
    f += term;
    df -= t[j] * term;
    scale += Math.abs(term);
  }
  return { f, df, scale };
}

function sign(s: Series, L: number): number {
  const { f } = evaluate(s, L);
  return f > 0 ? 1 : f < 0 ? -1 : 0;
}

const GUESS_L = Math.log1p(0.1);
const L_TOLERANCE = 1e-14;

function newton(s: Series): number | null {
  let L = GUESS_L;
  for (let iter = 0; iter < 100; iter++) {
    const { f, df } = evaluate(s, L);
    if (f === 0) return L;
    if (!Number.isFinite(f) || !Number.isFinite(df) || df === 0) return null;
    let step = f / df;
    // keep Newton from leaping across the whole real line on a flat stretch
    if (Math.abs(step) > 2) step = Math.sign(step) * 2;
    const next = L - step;
    if (!Number.isFinite(next) || next < -40 || next > 40) return null;
    if (Math.abs(next - L) <= L_TOLERANCE * Math.max(1, Math.abs(L))) {
      const check = evaluate(s, next);
      return Math.abs(check.f) <= 1e-9 * check.scale ? next : null;
    }
    L = next;
  }
  return null;
}

/** Brent's method on [lo, hi] with f(lo), f(hi) of opposite signs. */
function brent(s: Series, lo: number, hi: number): number {
  let a = lo;
  let b = hi;
  let fa = evaluate(s, a).f;
  let fb = evaluate(s, b).f;
  if (Math.abs(fa) < Math.abs(fb)) {
    [a, b] = [b, a];
    [fa, fb] = [fb, fa];
  }
  let c = a;
  let fc = fa;
  let d = b - a;
  let mflag = true;
  for (let iter = 0; iter < 300; iter++) {
    if (fb === 0 || Math.abs(b - a) <= L_TOLERANCE * Math.max(1, Math.abs(b))) return b;
    let sNew: number;
    if (fa !== fc && fb !== fc) {
      sNew = (a * fb * fc) / ((fa - fb) * (fa - fc)) + (b * fa * fc) / ((fb - fa) * (fb - fc)) + (c * fa * fb) / ((fc - fa) * (fc - fb));
    } else {
      sNew = b - (fb * (b - a)) / (fb - fa);
    }
    const lowBound = (3 * a + b) / 4;
    const outside = !((sNew > Math.min(lowBound, b) && sNew < Math.max(lowBound, b)));
    if (
      outside ||
      (mflag && Math.abs(sNew - b) >= Math.abs(b - c) / 2) ||
      (!mflag && Math.abs(sNew - b) >= Math.abs(c - d) / 2) ||
      (mflag && Math.abs(b - c) < L_TOLERANCE) ||
      (!mflag && Math.abs(c - d) < L_TOLERANCE)
    ) {
      sNew = (a + b) / 2;
      mflag = true;
    } else {
      mflag = false;
    }
    const fs = evaluate(s, sNew).f;
    d = c;
    c = b;
    fc = fb;
    if (fa * fs < 0) {
      b = sNew;
      fb = fs;
    } else {
      a = sNew;
      fa = fs;
    }
    if (Math.abs(fa) < Math.abs(fb)) {
      [a, b] = [b, a];
      [fa, fb] = [fb, fa];
    }
  }
  return b;
}

/** Scan grid in x: dense near ordinary rates, reaching −99.9999999 % and 10^10 (10^12 %). */
const SCAN_X = [
  -0.999999999, -0.9999999, -0.99999, -0.9999, -0.999, -0.995, -0.99, -0.98, -0.95, -0.9, -0.85, -0.8, -0.7, -0.6, -0.5, -0.4,
  -0.3, -0.25, -0.2, -0.15, -0.1, -0.075, -0.05, -0.025, 0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5,
  0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 50, 100, 300, 1e3, 1e4, 1e5, 1e6, 1e8, 1e10,
];
const SCAN_L = SCAN_X.map((x) => Math.log1p(x));

function bracketed(s: Series): number | null {
  let best: number | null = null;
  let bestDistance = Infinity;
  let prevL = SCAN_L[0];
  let prevSign = sign(s, prevL);
  if (prevSign === 0) return prevL;
  for (let k = 1; k < SCAN_L.length; k++) {
    const L = SCAN_L[k];
    const sg = sign(s, L);
    if (sg === 0) return L;
    if (sg !== prevSign) {
      const distance = Math.min(Math.abs(prevL - GUESS_L), Math.abs(L - GUESS_L));
      if (distance < bestDistance) {
        bestDistance = distance;
        best = brent(s, prevL, L);
      }
    }
    prevL = L;
    prevSign = sg;
  }
  return best;
}

/** The root as L = ln(1 + x), or null when there is none. */
function solve(flows: readonly CashFlow[]): number | null {
  const s = buildSeries(flows);
  if (!s) return null;
  const L = newton(s) ?? bracketed(s);
  return L === null || !Number.isFinite(L) ? null : L;
}

/**
 * DESIGN §4 XIRR: the annual rate as a Decimal, or null when no root exists. x = e^L − 1 is
 * taken in decimal: near −100 % (L ≈ −38) a double would round 1 + x to 0 and return −1.
 */
export function xirr(flows: readonly CashFlow[]): Decimal | null {
  const L = solve(flows);
  return L === null ? null : new Decimal(L).exp().minus(1);
}

/** XIRR as a float (a rate within about 1e-16 of −100 % reads as −1), or null when no root exists. */
export function xirrNumber(flows: readonly CashFlow[]): number | null {
  const L = solve(flows);
  return L === null ? null : Math.expm1(L);
}
