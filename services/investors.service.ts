/**
 * investors — investors (bank details encrypted at rest) and loan assignments.
 *
 * Not built out yet: today it owns its database connection and answers `health`. Its
 * collections, actions and events arrive with the issue that builds it.
 */
import type { ServiceSchema } from "moleculer";
import { MongoMixin } from "../shared/db/mongo.mixin";

const InvestorsService: ServiceSchema = {
  name: "investors",
  mixins: [MongoMixin({})],
};

export default InvestorsService;
