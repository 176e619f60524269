/** The LendingProgram of each program_type (seed 003 Provider Pattern). */
import { FinanceInputError } from "../errors";
import type { ProgramType } from "../types";
import { installmentProgram } from "./installment";
import { leaseProgram } from "./lease";
import type { LendingProgram } from "./lendingProgram";
import { lineOfCreditProgram } from "./lineOfCredit";

export type { LendingProgram } from "./lendingProgram";
export { installmentProgram, leaseProgram, lineOfCreditProgram };

const PROGRAMS: Record<ProgramType, LendingProgram> = {
  installment: installmentProgram,
  lease: leaseProgram,
  line_of_credit: lineOfCreditProgram,
};

export function lendingProgramFor(programType: ProgramType | string): LendingProgram {
  const program = PROGRAMS[programType as ProgramType];
  if (!program) throw new FinanceInputError(`unknown program_type '${programType}'`, "program_type", programType);
  return program;
}
