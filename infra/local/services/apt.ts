import { run, which } from '../process.ts';
import type { Context } from '../service.ts';

/** Installs Debian packages, as root directly or through sudo. */
export async function aptInstall(ctx: Context, packages: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && !which('sudo')) {
    throw new Error(
      `Missing ${packages.join(', ')}: install them with apt-get (needs root; sudo is not available).`,
    );
  }
  const prefix = asRoot ? [] : ['sudo', '-n'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = async (args: string[]) => {
    const [command, ...rest] = [...prefix, 'apt-get', ...args];
    return run(command!, rest, { env });
  };
  ctx.log(`installing ${packages.join(', ')} with apt-get`);
  let result = await apt(['install', '-y', '--no-install-recommends', ...packages]);
  if (result.code !== 0) {
    // A fresh machine often has no package lists yet.
    const update = await apt(['update']);
    if (update.code !== 0) throw new Error(`apt-get update failed:\n${update.output.slice(-2000)}`);
    result = await apt(['install', '-y', '--no-install-recommends', ...packages]);
  }
  if (result.code !== 0) {
    throw new Error(
      `apt-get install ${packages.join(' ')} failed (exit ${result.code}):\n${result.output.slice(-2000)}`,
    );
  }
}
