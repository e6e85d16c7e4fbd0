import { EXIT, isUsageError, type Command } from './command.ts';
import { COMMANDS } from './commands/index.ts';

// `berth`: finds the command in the table, answers --help at every level and turns
// errors into exit codes (0 ok, 1 failure, 2 usage).

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: berth <command> [flags]',
    '',
    'Mount IPFS content, NFS shares and local folders as folders (FUSE) or NFSv3 servers.',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `berth <command> --help` for a command\'s flags.',
  ].join('\n');
}

/** Runs the CLI with argv (without node and script); resolves to the process exit code. */
export async function main(argv: string[], commands: readonly Command[] = COMMANDS): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const cmd = topic ? commands.find((c) => c.name === topic) : undefined;
    if (topic && !cmd) {
      process.stderr.write(`berth: unknown command ${JSON.stringify(topic)}\n\n${overview(commands)}\n`);
      return EXIT.usage;
    }
    process.stdout.write(`${cmd ? cmd.help : overview(commands)}\n`);
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) {
    process.stderr.write(`berth: unknown command ${JSON.stringify(first.slice(0, 60))}\n\n${overview(commands)}\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.help}\n`);
    return EXIT.ok;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (isUsageError(err)) {
      const synopsis = cmd.help.split('\n')[0] ?? '';
      process.stderr.write(`berth ${cmd.name}: ${(err as Error).message}\n${synopsis}\nrun \`berth ${cmd.name} --help\` for every flag\n`);
      return EXIT.usage;
    }
    process.stderr.write(`berth ${cmd.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
}
