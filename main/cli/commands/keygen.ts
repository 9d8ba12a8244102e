import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { FlashlineError } from '../../common/errors.js';
import { generateKeyPair, type KeyKind, writeKeyPair } from '../../package/index.js';
import { collect } from '../options.js';

function parseProduct(v: string): string {
  if (!/^(\*|[a-z0-9][a-z0-9._-]{0,63})$/.test(v)) {
    throw new InvalidArgumentError(`'${v}' is not a product id (lowercase letters, digits, . _ -).`);
  }
  return v;
}

function parseDate(v: string): Date {
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) {
    throw new InvalidArgumentError(`'${v}' is not a date (for example 2027-12-31 or 2027-12-31T00:00:00Z).`);
  }
  return d;
}

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('create a key pair: NAME.key (private, mode 0600) and NAME.pub')
    .requiredOption('--out <name>', 'base name of the key files')
    .addOption(
      new Option(
        '--type <type>',
        'signing (ed25519, signs packages) or station (x25519, receives encrypted packages)',
      )
        .choices(['signing', 'station'])
        .default('signing'),
    )
    .option(
      '--product <id>',
      'product this signing key may sign for (repeatable; default any: *)',
      collect(parseProduct),
      [],
    )
    .option('--not-after <date>', 'last day the signing key is valid', parseDate)
    .option('--comment <text>', 'a note stored in both files')
    .option('--force', 'overwrite existing key files', false)
    .action(
      async (opts: {
        out: string;
        type: KeyKind;
        product: string[];
        notAfter?: Date;
        comment?: string;
        force: boolean;
      }) => {
        for (const f of [`${opts.out}.key`, `${opts.out}.pub`]) {
          if (existsSync(f) && !opts.force) {
            throw new FlashlineError(
              'bad_input',
              `${f} already exists; choose another --out or pass --force.`,
            );
          }
        }
        const pair = generateKeyPair({
          kind: opts.type,
          products: opts.product,
          ...(opts.notAfter ? { notAfter: opts.notAfter } : {}),
          ...(opts.comment ? { comment: opts.comment } : {}),
        });
        const files = await writeKeyPair(opts.out, pair);
        process.stdout.write(
          `${opts.type} key ${pair.keyId}\n  private: ${files.key} (keep secret)\n  public:  ${files.pub}\n`,
        );
      },
    );
}
