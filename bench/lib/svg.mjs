// Dependency-free SVG charts for the Markdown report: a horizontal bar chart and a line chart.
// Both return the SVG document as a string; the caller writes it next to the report.

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

export function escapeXml(text) {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** For axis ticks: 1234567 -> "1.23M", 2500 -> "2.5k", 0.5 -> "0.5". */
export function formatCompact(value) {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toPrecision(3)}k`;
  return String(+value.toPrecision(3));
}

/** For values: 100661.4 -> "100,661", 0.241 -> "0.241". */
export function formatValue(value) {
  return Math.abs(value) >= 100
    ? Math.round(value).toLocaleString('en')
    : String(+value.toPrecision(3));
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min, max, count = 5) {
  if (!(max > min)) return [min];
  const rawStep = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rawStep);
  const ticks = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(+t.toPrecision(12));
  }
  return ticks;
}

function logTicks(min, max) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++)
    ticks.push(10 ** e);
  return ticks;
}

/** A scale from the data domain onto [0, length]; log scales need positive values. */
function scale(min, max, length, log) {
  if (log) {
    const lo = Math.log10(min);
    const hi = Math.log10(max);
    return (v) => ((Math.log10(Math.max(v, min)) - lo) / (hi - lo || 1)) * length;
  }
  return (v) => ((v - min) / (max - min || 1)) * length;
}

/**
 * A horizontal bar chart. `bars`: [{ label, value, note? }] drawn top to bottom; `note` is shown
 * after the value (a unit, say). With `logScale` the axis is logarithmic, so figures of very
 * different sizes stay readable.
 */
export function svgBarChart({ title, bars, xLabel = '', logScale = false, width = 860 }) {
  const barHeight = 22;
  const gap = 8;
  // Wide enough for the longest label (about 6.4 px a character at 12 px), and a plot of 360 px+.
  const labelWidth = 12 + 6.4 * Math.max(...bars.map((b) => b.label.length), 10);
  const top = 48;
  const left = labelWidth + 10;
  const right = 140;
  const plotWidth = Math.max(360, width - left - right);
  width = left + plotWidth + right;
  const plotHeight = bars.length * (barHeight + gap);
  const height = top + plotHeight + 52;

  const values = bars.map((b) => b.value).filter((v) => Number.isFinite(v) && v > 0);
  const maxValue = values.length ? Math.max(...values) : 1;
  const minValue = values.length ? Math.min(...values) : 1;
  const domainMin = logScale ? 10 ** Math.floor(Math.log10(minValue)) : 0;
  const domainMax = logScale ? 10 ** Math.ceil(Math.log10(maxValue)) : maxValue * 1.05;
  const x = scale(domainMin, domainMax, plotWidth, logScale);
  const ticks = logScale ? logTicks(domainMin, domainMax) : niceTicks(0, domainMax, 6);

  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  ];
  for (const tick of ticks) {
    const tx = left + x(tick);
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${top - 4}" x2="${tx.toFixed(1)}" y2="${top + plotHeight}" stroke="#e3e3e3"/>`,
      `<text x="${tx.toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle" fill="#555">${formatCompact(tick)}</text>`,
    );
  }
  bars.forEach((bar, index) => {
    const y = top + index * (barHeight + gap);
    const valid = Number.isFinite(bar.value) && bar.value > 0;
    const w = valid ? Math.max(1, x(bar.value)) : 0;
    const color = bar.color ?? PALETTE[(bar.group ?? index) % PALETTE.length];
    out.push(
      `<text x="${left - 8}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${color}" rx="2"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + barHeight / 2 + 4}" fill="#222">${valid ? escapeXml(formatValue(bar.value)) : 'n/a'}${bar.note ? ` ${escapeXml(bar.note)}` : ''}</text>`,
    );
  });
  out.push(
    `<line x1="${left}" y1="${top + plotHeight}" x2="${left + plotWidth}" y2="${top + plotHeight}" stroke="#888"/>`,
    `<text x="${left + plotWidth / 2}" y="${height - 12}" text-anchor="middle" fill="#333">${escapeXml(xLabel)}${logScale ? ' (log scale)' : ''}</text>`,
    '</svg>',
  );
  return out.join('\n');
}

/**
 * A line chart of one or more series. `series`: [{ name, points: [[x, y], ...] }]. Meant for
 * latency percentiles (y) against offered load (x), but generic. Options: `logX`, `logY`.
 */
export function svgLineChart({
  title,
  series,
  xLabel = '',
  yLabel = '',
  logX = false,
  logY = false,
  width = 860,
  height = 460,
}) {
  const margin = { top: 48, right: 170, bottom: 56, left: 72 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = series
    .flatMap((s) => s.points)
    .filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py));
  const xs = points.map(([px]) => px);
  const ys = points.map(([, py]) => py);
  const range = (vals, log) => {
    if (vals.length === 0) return [log ? 1 : 0, 1];
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    if (log)
      return [
        10 ** Math.floor(Math.log10(Math.max(lo, 1e-9))),
        10 ** Math.ceil(Math.log10(Math.max(hi, 1e-9))),
      ];
    const ticks = niceTicks(Math.min(0, lo), hi === lo ? hi + 1 : hi, 6);
    return [Math.min(0, lo), Math.max(hi, ticks.at(-1))];
  };
  const [xMin, xMax] = range(xs, logX);
  const [yMin, yMax] = range(ys, logY);
  const sx = scale(xMin, xMax, plotWidth, logX);
  const sy = scale(yMin, yMax, plotHeight, logY);
  const px = (v) => (margin.left + sx(v)).toFixed(1);
  const py = (v) => (margin.top + plotHeight - sy(v)).toFixed(1);

  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  ];
  for (const tick of logY ? logTicks(yMin, yMax) : niceTicks(yMin, yMax, 6)) {
    out.push(
      `<line x1="${margin.left}" y1="${py(tick)}" x2="${margin.left + plotWidth}" y2="${py(tick)}" stroke="#e3e3e3"/>`,
      `<text x="${margin.left - 8}" y="${(+py(tick) + 4).toFixed(1)}" text-anchor="end" fill="#555">${formatCompact(tick)}</text>`,
    );
  }
  for (const tick of logX ? logTicks(xMin, xMax) : niceTicks(xMin, xMax, 6)) {
    out.push(
      `<line x1="${px(tick)}" y1="${margin.top}" x2="${px(tick)}" y2="${margin.top + plotHeight}" stroke="#f0f0f0"/>`,
      `<text x="${px(tick)}" y="${margin.top + plotHeight + 16}" text-anchor="middle" fill="#555">${formatCompact(tick)}</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 14}" text-anchor="middle" fill="#333">${escapeXml(xLabel)}${logX ? ' (log)' : ''}</text>`,
    `<text transform="translate(18 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(yLabel)}${logY ? ' (log)' : ''}</text>`,
  );
  series.forEach((s, index) => {
    const color = s.color ?? PALETTE[index % PALETTE.length];
    const valid = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    if (valid.length > 0) {
      const path = valid.map(([a, b], i) => `${i ? 'L' : 'M'}${px(a)},${py(b)}`).join(' ');
      out.push(
        `<path d="${path}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      for (const [a, b] of valid)
        out.push(`<circle cx="${px(a)}" cy="${py(b)}" r="3" fill="${color}"/>`);
    }
    const ly = margin.top + 8 + index * 20;
    const lx = margin.left + plotWidth + 16;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 28}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
