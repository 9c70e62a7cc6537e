/**
 * Client data is hostile until bounded: before anything from the wire is serialized, copied to
 * another process or stored, this walks it once, iteratively (a recursive walk is exactly what a
 * 20,000-level object overflows), and stops at the first limit crossed. The walk costs at most
 * `maxChars` steps, whatever the value's real size.
 */
export interface ValueLimits {
  /** Characters of JSON the value may take, roughly (strings, keys, numbers, punctuation). */
  maxChars: number;
  /** Levels of nested objects and arrays (a flat object is depth 1). */
  maxDepth: number;
}

/** Why the value is over `limits` ("larger than 8192 characters", "nested deeper than 10 levels"), or undefined when it fits. */
export function valueOverLimits(value: unknown, limits: ValueLimits): string | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  let chars = 0;
  const tooLarge = `larger than ${limits.maxChars} characters`;
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item === "string") chars += item.length + 2;
    else if (typeof item !== "object" || item === null) chars += String(item).length;
    else {
      if (depth + 1 > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
      chars += 2;
      // Object.keys of a huge object is itself costly: the size check below ends the walk early,
      // and a plain object over the limit has more keys than chars allow.
      for (const key of Object.keys(item)) {
        chars += key.length + 4;
        if (chars > limits.maxChars) return tooLarge;
        stack.push([(item as Record<string, unknown>)[key], depth + 1]);
      }
    }
    if (chars > limits.maxChars) return tooLarge;
  }
  return undefined;
}
