/** URL and path helpers shared by the engine and the adapters (not part of the public API). */

/** The default mount path of every adapter. */
export const DEFAULT_PATH = '/actorspace';

/** The pathname of a request URL, absolute (`http://h/x?y`) or path-only (`/x?y`). */
export function pathnameOf(url: string | undefined): string {
  if (!url) return '/';
  try {
    return new URL(url, 'http://localhost').pathname;
  } catch {
    return '/';
  }
}

/** A mount path with one leading slash and no trailing slash (`'/actorspace'`). */
export function normalizePath(path: string | undefined): string {
  const p = (path ?? DEFAULT_PATH).trim();
  const withSlash = p.startsWith('/') ? p : `/${p}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}
