/**
 * snapshots — daily point-in-time portfolio metrics and program/vintage read models (DESIGN.md §4).
 *
 * Not built out yet: today it owns its database connection and answers `health`. Its
 * collections, actions and events arrive with the issue that builds it.
 */
import type { ServiceSchema } from "moleculer";
import { MongoMixin } from "../shared/db/mongo.mixin";

const SnapshotsService: ServiceSchema = {
  name: "snapshots",
  mixins: [MongoMixin({})],
};

export default SnapshotsService;
