// Figures -> summary table (terminal), JSON results, Markdown report and SVG charts.
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { median } from './stats.mjs';
import { svgBarChart, svgLineChart } from './svg.mjs';

/** Adds the median, range and verdict to a figure a scenario returned. */
export function finishFigure(figure) {
  const samples = (figure.samples ?? []).filter((v) => Number.isFinite(v));
  const value = median(samples);
  let verdict = 'n/a';
  if (figure.target) {
    const { op, value: target } = figure.target;
    const ok =
      op === '>='
        ? value >= target
        : op === '>'
          ? value > target
          : op === '<='
            ? value <= target
            : value < target;
    verdict = Number.isFinite(value) ? (ok ? 'pass' : 'MISS') : 'no data';
  }
  return {
    ...figure,
    samples,
    value,
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? Math.max(...samples) : NaN,
    runs: samples.length,
    verdict,
  };
}

export function formatValue(value, unit) {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === '×') return `${value.toFixed(2)}×`;
  if (unit === 'ms') return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
  return `${Math.round(value).toLocaleString('en')} ${unit}`;
}

const targetText = (figure) =>
  figure.target?.text ?? (figure.target ? `${figure.target.op} ${figure.target.value}` : '—');

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The summary printed at the end of a run. */
export function summaryTable(scenarios) {
  const rows = scenarios.flatMap((s) =>
    s.error
      ? [[`${s.name}: FAILED`, s.error.split('\n')[0].slice(0, 70), '—', 'error']]
      : s.figures.map((f) => [f.label, formatValue(f.value, f.unit), targetText(f), f.verdict]),
  );
  return table(['Figure', 'Value (median)', 'Target', 'Verdict'], rows);
}

const mdEscape = (text) => String(text).replaceAll('|', '\\|');

function mdTable(headers, rows) {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`),
  ].join('\n');
}

const verdictMark = (v) => (v === 'pass' ? '✅ pass' : v === 'MISS' ? '❌ miss' : v);

/** The throughput figures as a horizontal bar chart (log scale: they span orders of magnitude). */
export function throughputChart(scenarios) {
  const bars = [];
  scenarios.forEach((s, group) => {
    for (const f of s.figures ?? []) {
      if (f.chart && Number.isFinite(f.value))
        bars.push({ label: f.label, value: f.value, note: f.unit, group });
    }
  });
  if (bars.length === 0) return undefined;
  return svgBarChart({
    title: 'Throughput, median of the runs (higher is better)',
    bars,
    xLabel: 'per second',
    logScale: true,
  });
}

/**
 * The charts a scenario asked for, drawn from the medians of its figures: each chart is
 * svgLineChart's options, with points `[x, figureId]` whose y is that figure's median. Written as
 * `<date>-<scenario>-<chart id>.svg`.
 */
export function scenarioCharts(scenario) {
  const values = new Map((scenario.figures ?? []).map((f) => [f.id, f.value]));
  return (scenario.charts ?? []).map(({ id, ...chart }) => ({
    id,
    title: chart.title,
    svg: svgLineChart({
      ...chart,
      series: chart.series.map((s) => ({
        ...s,
        points: s.points.map(([x, y]) => [x, typeof y === 'string' ? (values.get(y) ?? NaN) : y]),
      })),
    }),
  }));
}

export function markdownReport(results, charts) {
  const m = results.machine;
  const out = [
    `# Benchmark results, ${results.date}`,
    '',
    `\`npm run bench${results.argv.length ? ` -- ${results.argv.join(' ')}` : ''}\`, started ${results.startedAt}, took ${Math.round(results.durationSeconds)} s. ` +
      `Each figure is the median of ${results.options.runs} runs (min–max beside it)` +
      (results.options.quick
        ? '; **quick mode** (shorter windows, smaller data sets: see the notes).'
        : '.'),
    '',
    '## Machine',
    '',
    mdTable(
      ['', ''],
      [
        ['Cores', m.cores],
        ['Memory', `${m.memoryGiB} GiB`],
        ['CPU', m.cpuModel],
        ['OS', m.os],
        ['Node.js', m.node],
        [
          'PostgreSQL',
          `${m.postgres}${
            m.postgresSettings
              ? ` (${Object.entries(m.postgresSettings)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', ')})`
              : ''
          }`,
        ],
        ['pgbench', m.pgbench],
        ['RabbitMQ', m.rabbitmq],
        ['Commit', m.commit],
      ],
    ),
    '',
    'Everything (PostgreSQL, RabbitMQ, the benchmark) runs on this one machine.',
    '',
    '## Figures against their targets',
    '',
    mdTable(
      ['Scenario', 'Figure', 'Value (median)', 'Runs (min–max)', 'Target', 'Verdict'],
      results.scenarios.flatMap((s) =>
        s.error
          ? [[s.name, 'FAILED', s.error.split('\n')[0], '', '', 'error']]
          : s.figures.map((f) => [
              s.name,
              f.label,
              `**${formatValue(f.value, f.unit)}**`,
              `${f.runs} (${formatValue(f.min, f.unit)} – ${formatValue(f.max, f.unit)})`,
              targetText(f),
              verdictMark(f.verdict),
            ]),
      ),
    ),
    '',
  ];
  for (const chart of charts.filter((c) => !c.scenario)) {
    out.push(`![${chart.title}](./${chart.file})`, '');
  }
  out.push('## Scenarios', '');
  for (const s of results.scenarios) {
    out.push(
      `### ${s.title ?? s.name}`,
      '',
      `Measured ${s.measuredAt}, in ${Math.round(s.durationSeconds)} s.`,
      '',
    );
    if (s.description) out.push(s.description, '');
    for (const chart of charts.filter((c) => c.scenario === s.name))
      out.push(`![${chart.title}](./${chart.file})`, '');
    for (const n of s.notes ?? []) out.push(`- ${n}`);
    if (s.notes?.length) out.push('');
    if (s.error) out.push('```', s.error, '```', '');
    else {
      out.push(
        mdTable(
          ['Figure', 'Median', 'Each run'],
          s.figures.map((f) => [
            f.label,
            formatValue(f.value, f.unit),
            f.samples.map((v) => formatValue(v, f.unit)).join(', '),
          ]),
        ),
        '',
      );
    }
  }
  out.push(
    'Targets are from issue 6. Ratios are computed run by run (both sides measured in the same run) and their median is shown.',
    '',
  );
  return out.join('\n');
}

async function writeAtomically(path, content) {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

/**
 * Writes `<date>.json`, `<date>.md` and the charts. With `merge`, scenarios already in today's
 * JSON that this run did not measure are kept (a `--only` run updates just its own).
 */
export async function writeResults(directory, results, { merge }) {
  const base = join(directory, results.date);
  if (merge && existsSync(`${base}.json`)) {
    try {
      const previous = JSON.parse(await readFile(`${base}.json`, 'utf8'));
      const measured = new Set(results.scenarios.map((s) => s.name));
      const kept = (previous.scenarios ?? []).filter((s) => !measured.has(s.name));
      results.scenarios = [...kept, ...results.scenarios].sort(
        (a, b) =>
          (results.order.indexOf(a.name) + 1 || 99) - (results.order.indexOf(b.name) + 1 || 99),
      );
    } catch {
      /* an unreadable file is replaced */
    }
  }
  const charts = [];
  const throughput = throughputChart(results.scenarios);
  if (throughput) {
    const file = `${results.date}-throughput.svg`;
    await writeAtomically(join(directory, file), throughput);
    charts.push({ title: 'Throughput figures', file });
  }
  for (const scenario of results.scenarios) {
    if (scenario.error) continue;
    for (const chart of scenarioCharts(scenario)) {
      const file = `${results.date}-${scenario.name}-${chart.id}.svg`;
      await writeAtomically(join(directory, file), chart.svg);
      charts.push({ title: chart.title, file, scenario: scenario.name });
    }
  }
  results.charts = charts;
  const json = JSON.stringify(
    results,
    (key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value),
    2,
  );
  await writeAtomically(`${base}.json`, `${json}\n`);
  await writeAtomically(`${base}.md`, markdownReport(results, charts));
  return {
    json: `${base}.json`,
    markdown: `${base}.md`,
    charts: charts.map((c) => join(directory, c.file)),
  };
}
