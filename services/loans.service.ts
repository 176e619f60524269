/**
 * loans — loans, schedules, transactions (ledger), modifications, promo assignments — disbursement, payments, fees, accrual, delinquency, payoff (DESIGN.md §1, §3).
 *
 * Not built out yet: today it owns its database connection and answers `health`. Its
 * collections, actions and events arrive with the issue that builds it.
 */
import type { ServiceSchema } from "moleculer";
import { MongoMixin } from "../shared/db/mongo.mixin";

const LoansService: ServiceSchema = {
  name: "loans",
  mixins: [MongoMixin({})],
};

export default LoansService;
