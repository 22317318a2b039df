import { spawn } from 'node:child_process';
import { ConfigError } from '../src/config.ts';
import type { Context } from './service.ts';
import {
  allServices,
  createContext,
  formatStatus,
  infraServices,
  install,
  selectServices,
  startAll,
  startServices,
  statuses,
  stopServices,
} from './stack.ts';

const USAGE = `Local infrastructure for the MSISDN hub (everything on loopback, data under HUB_DATA_DIR).

Usage: tsx infra/local/cli.ts <command>
  install                    install what is missing (apt packages, Kafka jars)
  start                      start the infrastructure, then the pipeline components present
  up [service...]            start the given services (default: all infrastructure)
  stop [service...]          stop the given services (default: everything)
  status                     show what runs and where
  with-services [service...] -- <cmd...>
                             start what is not running (default: all infrastructure),
                             run <cmd>, then stop only what this started

Services: ${infraServices.map((s) => s.name).join(', ')}`;

async function printStatus(ctx: Context): Promise<void> {
  console.log(formatStatus(await statuses(ctx)));
}

/** Runs a command with the infrastructure up; stops only what it started; exits with the command's code. */
async function withServices(ctx: Context, names: string[], command: string[]): Promise<number> {
  if (command.length === 0) throw new Error('with-services needs a command after --');
  const services = selectServices(names, infraServices);
  let started: string[] = [];
  const cleanup = async () => {
    if (started.length === 0) return;
    await stopServices(ctx, selectServices(started, services));
    started = [];
  };
  try {
    started = await startServices(ctx, services);
  } catch (error) {
    started = (error as { started?: string[] }).started ?? [];
    await cleanup();
    throw error;
  }
  const [program, ...args] = command;
  const child = spawn(program!, args, {
    stdio: 'inherit',
    env: { ...process.env, HUB_DATA_DIR: ctx.dataDir },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => {
    child.once('error', (error) => {
      console.error(`could not run ${program}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (exitCode, signal) =>
      resolve(exitCode ?? (signal ? 128 + (signalNumbers[signal] ?? 1) : 1)),
    );
  });
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  await cleanup();
  return code;
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const separator = rest.indexOf('--');
  const names = separator === -1 ? rest : rest.slice(0, separator);
  switch (command) {
    case 'install': {
      await install(createContext());
      return 0;
    }
    case 'start': {
      const ctx = createContext();
      await startAll(ctx);
      await printStatus(ctx);
      return 0;
    }
    case 'up': {
      const ctx = createContext();
      await startServices(ctx, selectServices(names, names.length === 0 ? infraServices : allServices()));
      await printStatus(ctx);
      return 0;
    }
    case 'stop':
    case 'down': {
      const ctx = createContext();
      const stopped = await stopServices(ctx, selectServices(names));
      if (stopped.length === 0) ctx.log('nothing was running');
      return 0;
    }
    case 'status': {
      await printStatus(createContext());
      return 0;
    }
    case 'with-services': {
      if (separator === -1) throw new Error('with-services needs -- before the command');
      return withServices(createContext(), names, rest.slice(separator + 1));
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`Unknown command ${command}\n\n${USAGE}`);
      return 1;
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
