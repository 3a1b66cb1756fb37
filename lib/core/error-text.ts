/** One line describing an error for logs and messages: `Name: message`, or the value as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
