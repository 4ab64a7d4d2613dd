/** Random URL-safe ids (126 bits) from the platform's CSPRNG; no dependency needed. */
const ALPHABET = 'useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict';

/** A new random id of `size` URL-safe characters. */
export function newId(size = 21): string {
  const bytes = crypto.getRandomValues(new Uint8Array(size));
  let id = '';
  for (let i = 0; i < size; i++) id += ALPHABET[(bytes[i] as number) & 63];
  return id;
}
