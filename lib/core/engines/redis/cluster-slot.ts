/**
 * Redis Cluster slot of a storage key. Every key of a layer is `<prefix>:{<storageKey>}:x`, so
 * its slot is CRC16 (XMODEM) of the storage key modulo 16384. Storage keys are ASCII (see
 * `escapeKeyPart`), so characters are bytes. Used only to group the layers of a composite
 * acquisition by slot on a cluster.
 */
const TABLE = buildTable();

export function slotOf(storageKey: string): number {
  let crc = 0;
  for (let i = 0; i < storageKey.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ storageKey.charCodeAt(i)) & 0xff];
  }
  return crc & 0x3fff;
}

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    table[i] = c;
  }
  return table;
}
