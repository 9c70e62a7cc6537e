/**
 * A strict reader of the Prometheus text exposition format (0.0.4), enough to check that
 * /metrics parses and to read values: every sample line must be well-formed and belong to a
 * metric family declared by a TYPE line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// Values as Prometheus reads them (Go's ParseFloat): NaN and Inf in any case.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([+-]?(?:[0-9.]+(?:[eE][+-]?\d+)?|[nN][aA][nN]|[iI][nN][fF]))( -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** The samples; throws on any malformed line. `families` (name → type) is filled from the TYPE lines when given. */
export function parsePrometheus(text: string, families = new Map<string, string>()): Sample[] {
  const samples: Sample[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (type) {
      if (!TYPES.has(type[2])) throw new Error(`line ${index + 1}: unknown type ${type[2]}`);
      if (families.has(type[1])) throw new Error(`line ${index + 1}: ${type[1]} declared twice`);
      families.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`line ${index + 1} is not a sample: ${line}`);
    const name = match[1];
    const family = families.has(name) ? name : name.replace(/_(bucket|sum|count|total|created)$/, "");
    if (!families.has(family)) throw new Error(`line ${index + 1}: ${name} has no TYPE line`);
    const labels: Record<string, string> = {};
    const body = match[3] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body);
      if (!label) throw new Error(`line ${index + 1}: bad labels {${body}}`);
      labels[label[1]] = label[2]!;
    }
    samples.push({ name, labels, value: Number(match[4]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}
