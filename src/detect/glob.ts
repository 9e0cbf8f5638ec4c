/** Glob matching for operation selectors (`*` any run of characters, `?` one character). */

/** Compiles `glob` into an anchored RegExp; everything but `*` and `?` matches literally. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}
