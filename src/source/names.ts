/** Names the playbook and inventory languages share. */

/** A usable variable name; `__proto__` is refused because it would be the prototype, not data. */
export function isVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name !== '__proto__';
}
