/**
 * Small helpers for checking user-written objects. Each check appends a problem that names the
 * file and the field, so a user sees every mistake at once (`jobs/orders.ts: format.delimiter: …`).
 */

export class Problems {
  readonly list: string[] = [];
  constructor(private readonly file: string) {}

  add(field: string, message: string): void {
    this.list.push(field ? `${this.file}: ${field}: ${message}` : `${this.file}: ${message}`);
  }

  /** A problem that already names its file (and line), e.g. a syntax error with its code frame. */
  raw(message: string): void {
    this.list.push(message);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 37) + '…' : v}'`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Report keys that are not among `allowed` (typos like `delimeter`). */
export function unknownKeys(p: Problems, field: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      const near = allowed.find((a) => closeEnough(a, k));
      p.add(field ? `${field}.${k}` : k, `unknown setting${near ? `; did you mean '${near}'?` : `; expected one of ${allowed.join(', ')}`}`);
    }
  }
}

export function oneOf<T extends string>(
  p: Problems,
  field: string,
  value: unknown,
  allowed: readonly T[],
  fallback?: T,
): T | undefined {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  p.add(field, `${describeValue(value)} is not allowed; expected one of ${allowed.join(', ')}`);
  return fallback;
}

export function optionalString(p: Problems, field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  p.add(field, `expected text, got ${describeValue(value)}`);
  return undefined;
}

export function requiredString(p: Problems, field: string, value: unknown): string | undefined {
  if (value === undefined || value === '') {
    p.add(field, 'is required');
    return undefined;
  }
  return optionalString(p, field, value);
}

export function optionalPositiveInt(p: Problems, field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  p.add(field, `expected a positive whole number, got ${describeValue(value)}`);
  return undefined;
}

/** Edit distance ≤ 2 — enough to catch `delimeter`, `conection`, `fromat`. */
function closeEnough(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 2) return false;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
    }
  }
  return d[a.length]![b.length]! <= 2;
}
