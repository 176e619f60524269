/**
 * portfolios — portfolios, memberships, sales — static and criteria-based membership, daily auto-assign, first-date fields (DESIGN.md §1, §5).
 *
 * Not built out yet: today it owns its database connection and answers `health`. Its
 * collections, actions and events arrive with the issue that builds it.
 */
import type { ServiceSchema } from "moleculer";
import { MongoMixin } from "../shared/db/mongo.mixin";

const PortfoliosService: ServiceSchema = {
  name: "portfolios",
  mixins: [MongoMixin({})],
};

export default PortfoliosService;
