import { runSimulator } from './main.ts';
import { createNimcSimulator } from './nimc.ts';

await runSimulator('NIMC', (config) => config.NIMC_URL, createNimcSimulator);
