/**
 * tapes — loan tape configs, runs and generated CSV/XLSX files, emailed on a schedule.
 *
 * Not built out yet: today it owns its database connection and answers `health`. Its
 * collections, actions and events arrive with the issue that builds it.
 */
import type { ServiceSchema } from "moleculer";
import { MongoMixin } from "../shared/db/mongo.mixin";

const TapesService: ServiceSchema = {
  name: "tapes",
  mixins: [MongoMixin({})],
};

export default TapesService;
