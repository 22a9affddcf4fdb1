import "reflect-metadata";
import { loadConfig } from "./src/config.js";
import { createDataSource } from "./src/db/data-source.js";

/** The DataSource for the TypeORM CLI; run it on the compiled file: `npx typeorm migration:run -d dist/ormconfig.js`. */
export default createDataSource(loadConfig().databaseUrl);
