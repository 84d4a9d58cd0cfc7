import { type CliSpec, commonOptions, type Option } from './cli';

/**
 * The `--help` of every tool, one layout: `name: purpose`, the usage lines, the tool's own blocks
 * (commands), the options with their defaults, notes, examples.
 */
export function helpText(spec: CliSpec): string {
  const blocks: { title: string; rows: [string, string][] }[] = [
    ...(spec.commands ? [{ title: 'Commands', rows: Object.entries(spec.commands) }] : []),
    ...(spec.sections ?? []),
    { title: 'Options', rows: optionRows(commonOptions(spec)) },
  ];
  const width = Math.min(MAX_LEFT, Math.max(...blocks.flatMap((b) => b.rows.map(([left]) => left.length))));
  const out = [`${spec.name}: ${spec.purpose}`, ''];
  out.push(...usageBlock(spec, 'Usage:'));
  for (const block of blocks) {
    out.push('', `${block.title}:`);
    for (const [left, right] of block.rows) out.push(...row(left, right, width));
  }
  if (spec.notes?.length) out.push('', ...spec.notes);
  out.push('', 'Examples:', ...spec.examples.map((e) => `  ${invocation(spec, e)}`));
  return `${out.join('\n')}\n`;
}

/** The usage lines, each a full command, the first after `label` and the others aligned with it. */
export function usageBlock(spec: CliSpec, label: string): string[] {
  return spec.usage.map((u, i) => `${i === 0 ? label : ' '.repeat(label.length)} ${invocation(spec, u)}`);
}

/** How the tool is run, before its arguments: `npm run <name> --` unless the spec says otherwise. */
export const programOf = (spec: CliSpec): string => spec.program ?? `npm run ${spec.name} --`;

const MAX_LEFT = 24;

/** `npm run backup -- --keep 3`; without arguments just `npm run backup`. */
function invocation(spec: CliSpec, args: string): string {
  const program = programOf(spec);
  return args ? `${program} ${args}` : program.replace(/ --$/, '');
}

/** The options, those without a group first; a group's options under ` Group:`. */
function optionRows(options: Record<string, Option>): [string, string][] {
  const entries = Object.entries(options);
  const groups = [undefined, ...new Set(entries.flatMap(([, o]) => (o.group ? [o.group] : [])))];
  return groups.flatMap((group) => [
    ...(group === undefined ? [] : [[` ${group}:`, ''] as [string, string]]),
    ...entries
      .filter(([, o]) => o.group === group)
      .map(([long, o]): [string, string] => [
        `${o.short ? `-${o.short}, ` : ''}--${long}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
        o.default === undefined ? o.help : `${o.help}; default ${o.default}`,
      ]),
  ]);
}

/** `  left   right`, the right column at `width` (on the next line when left is longer); \n continues. */
function row(left: string, right: string, width: number): string[] {
  if (left.startsWith(' ')) return [left];
  const [first = '', ...more] = right.split('\n');
  const pad = ' '.repeat(width + 4);
  const head = left.length <= width ? [`  ${left.padEnd(width)}  ${first}`] : [`  ${left}`, `${pad}${first}`];
  return [...head, ...more.map((m) => `${pad}${m}`)].map((l) => l.trimEnd());
}
