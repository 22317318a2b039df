import { runSimulator } from './main.ts';
import { createNibssSimulator } from './nibss.ts';

await runSimulator(
  'NIBSS',
  (config) => config.NIBSS_URL,
  (index, faults, desk) => createNibssSimulator(index, faults, undefined, desk),
);
