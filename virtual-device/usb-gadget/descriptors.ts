/**
 * The blobs a FunctionFS gadget writes to ep0 before its endpoints appear: descriptors in the
 * FUNCTIONFS_DESCRIPTORS_MAGIC_V2 layout (le32 magic, length, flags, then one le32 count per speed flagged,
 * then the descriptors) and strings (le32 magic, length, str_count, lang_count, then per language a le16 code
 * and str_count NUL-terminated strings). Facts from linux include/uapi/linux/usb/functionfs.h and ch9.h.
 *
 * Endpoint order fixes the file names: the first endpoint descriptor is ep1, the second ep2. fastboot's
 * interface is class/subclass/protocol 0xFF/0x42/0x03 with one bulk OUT (commands, data) and one bulk IN;
 * ADB's (Android's adbd on its ffs.adb function) is 0xFF/0x42/0x01 with the same two bulk endpoints.
 */
export const FFS = {
  descriptorsMagicV2: 3,
  stringsMagic: 2,
  hasFsDesc: 1,
  hasHsDesc: 2,
} as const;

export const USB_DT = { interface: 4, endpoint: 5 } as const;
export interface InterfaceClass {
  readonly class: number;
  readonly subclass: number;
  readonly protocol: number;
}
export const FASTBOOT_INTERFACE: InterfaceClass = { class: 0xff, subclass: 0x42, protocol: 0x03 };
export const ADB_INTERFACE: InterfaceClass = { class: 0xff, subclass: 0x42, protocol: 0x01 };

/** Max packet sizes for bulk endpoints by speed (USB 2.0 spec: 64 at full speed, 512 at high speed). */
export const BULK_MAX_PACKET = { full: 64, high: 512 } as const;

function interfaceDescriptor(iface: InterfaceClass): Buffer {
  return Buffer.from([
    9, // bLength
    USB_DT.interface,
    0, // bInterfaceNumber (FunctionFS renumbers it)
    0, // bAlternateSetting
    2, // bNumEndpoints
    iface.class,
    iface.subclass,
    iface.protocol,
    1, // iInterface: string 1 of the strings blob
  ]);
}

function bulkEndpoint(address: number, maxPacket: number): Buffer {
  const b = Buffer.alloc(7);
  b[0] = 7;
  b[1] = USB_DT.endpoint;
  b[2] = address;
  b[3] = 2; // bmAttributes: bulk
  b.writeUInt16LE(maxPacket, 4);
  b[6] = 0; // bInterval: unused for bulk
  return b;
}

function speedSet(iface: InterfaceClass, maxPacket: number): Buffer[] {
  // ep1 = OUT (host → device), ep2 = IN (device → host).
  return [interfaceDescriptor(iface), bulkEndpoint(0x01, maxPacket), bulkEndpoint(0x82, maxPacket)];
}

/** Full- and high-speed descriptors for the fastboot interface. */
export function fastbootDescriptors(): Buffer {
  return bulkPairDescriptors(FASTBOOT_INTERFACE);
}

/** Full- and high-speed descriptors for the ADB interface. */
export function adbDescriptors(): Buffer {
  return bulkPairDescriptors(ADB_INTERFACE);
}

/** One vendor interface with a bulk OUT (ep1) and a bulk IN (ep2), at full and high speed. */
export function bulkPairDescriptors(iface: InterfaceClass): Buffer {
  const fs = speedSet(iface, BULK_MAX_PACKET.full);
  const hs = speedSet(iface, BULK_MAX_PACKET.high);
  const body = Buffer.concat([...fs, ...hs]);
  const head = Buffer.alloc(20);
  head.writeUInt32LE(FFS.descriptorsMagicV2, 0);
  head.writeUInt32LE(head.length + body.length, 4);
  head.writeUInt32LE(FFS.hasFsDesc | FFS.hasHsDesc, 8);
  head.writeUInt32LE(fs.length, 12);
  head.writeUInt32LE(hs.length, 16);
  return Buffer.concat([head, body]);
}

/** Strings blob with one language (en-US, 0x0409). */
export function functionStrings(strings: readonly string[], lang = 0x0409): Buffer {
  const parts = strings.map((s) => {
    if (s.includes('\0')) throw new Error('USB strings cannot contain NUL');
    return Buffer.from(`${s}\0`, 'utf8');
  });
  const langCode = Buffer.alloc(2);
  langCode.writeUInt16LE(lang, 0);
  const body = Buffer.concat([langCode, ...parts]);
  const head = Buffer.alloc(16);
  head.writeUInt32LE(FFS.stringsMagic, 0);
  head.writeUInt32LE(head.length + body.length, 4);
  head.writeUInt32LE(strings.length, 8);
  head.writeUInt32LE(1, 12);
  return Buffer.concat([head, body]);
}

/** ep0 event types (enum usb_functionfs_event_type); an event is 12 bytes: 8 setup + type + 3 pad. */
export const FFS_EVENT = ['bind', 'unbind', 'enable', 'disable', 'setup', 'suspend', 'resume'] as const;
export type FfsEvent = (typeof FFS_EVENT)[number];
export const FFS_EVENT_SIZE = 12;

export function decodeEvents(buf: Uint8Array): FfsEvent[] {
  const out: FfsEvent[] = [];
  for (let at = 0; at + FFS_EVENT_SIZE <= buf.byteLength; at += FFS_EVENT_SIZE) {
    const type = FFS_EVENT[buf[at + 8] ?? 255];
    if (type) out.push(type);
  }
  return out;
}
