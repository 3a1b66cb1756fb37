import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors';

/** A PEM file of the store's TLS settings; the error names the option and the path only. */
export function readPem(storeId: string, name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const option = { ca: 'tlsCaFile', cert: 'tlsCertFile', key: 'tlsKeyFile' }[name] ?? name;
    throw new InvalidArgumentError(
      `stores.${storeId}.${option}`,
      `cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'}); ` +
        'give a PEM file this process can read',
    );
  }
}
