/**
 * Firehose XML: build and parse the flat documents Firehose uses — `<?xml …?>`, one root (`<data>` on the
 * wire and in rawprogram*.xml, `<patches>` in patch*.xml), and childless elements with attributes.
 *
 * Why a small parser of our own: no XML library is installed (fast-xml-parser, @xmldom/xmldom are not in
 * package.json, which this branch may not change), and these documents never nest beyond one level. The
 * parser is strict: anything outside that shape (text content, nested children, DOCTYPE, unknown entities,
 * duplicate attributes) is an error, so a hostile or broken reply cannot be half-understood.
 */

export interface XmlElement {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
}

export interface XmlDocument {
  readonly root: string;
  readonly children: readonly XmlElement[];
}

export class XmlFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlFormatError';
  }
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (whole, name: string | undefined) => {
    if (name === undefined) throw new XmlFormatError('a bare & in an attribute value');
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    const e = ENTITIES[name];
    if (e === undefined) throw new XmlFormatError(`unknown entity ${whole}`);
    return e;
  });
}

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&${Object.entries(ENTITIES).find(([, v]) => v === c)![0]};`);
}

const NAME = /[A-Za-z_][\w.-]*/y;
const SPACE = /\s*/y;
const ATTR_VALUE = /"([^"<]*)"|'([^'<]*)'/y;

class Cursor {
  at = 0;
  constructor(readonly text: string) {}
  skipSpace(): void {
    SPACE.lastIndex = this.at;
    SPACE.exec(this.text);
    this.at = SPACE.lastIndex;
  }
  skipMisc(): void {
    for (;;) {
      this.skipSpace();
      if (this.text.startsWith('<!--', this.at)) {
        const end = this.text.indexOf('-->', this.at + 4);
        if (end < 0) throw new XmlFormatError('an unterminated comment');
        this.at = end + 3;
      } else return;
    }
  }
  name(): string {
    NAME.lastIndex = this.at;
    const m = NAME.exec(this.text);
    if (!m) throw new XmlFormatError(`a name was expected at offset ${this.at}`);
    this.at = NAME.lastIndex;
    return m[0];
  }
  expect(s: string): void {
    if (!this.text.startsWith(s, this.at))
      throw new XmlFormatError(`'${s}' was expected at offset ${this.at}`);
    this.at += s.length;
  }
  /** Attributes up to `/>` or `>`; returns which closed the tag. */
  attrs(): { attrs: Record<string, string>; selfClosing: boolean } {
    const attrs: Record<string, string> = Object.create(null);
    for (;;) {
      this.skipSpace();
      if (this.text.startsWith('/>', this.at)) {
        this.at += 2;
        return { attrs, selfClosing: true };
      }
      if (this.text.startsWith('>', this.at)) {
        this.at += 1;
        return { attrs, selfClosing: false };
      }
      const key = this.name();
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      ATTR_VALUE.lastIndex = this.at;
      const m = ATTR_VALUE.exec(this.text);
      if (!m) throw new XmlFormatError(`attribute ${key} has no quoted value`);
      this.at = ATTR_VALUE.lastIndex;
      if (key in attrs) throw new XmlFormatError(`attribute ${key} appears twice`);
      attrs[key] = decodeEntities(m[1] ?? m[2] ?? '');
    }
  }
}

/** Parse one flat document. @throws XmlFormatError saying what is wrong */
export function parseXml(text: string): XmlDocument {
  const c = new Cursor(text.replace(/^\uFEFF/, ''));
  c.skipSpace();
  if (c.text.startsWith('<?xml', c.at)) {
    const end = c.text.indexOf('?>', c.at);
    if (end < 0) throw new XmlFormatError('an unterminated <?xml declaration');
    c.at = end + 2;
  }
  c.skipMisc();
  c.expect('<');
  const root = c.name();
  const open = c.attrs();
  const children: XmlElement[] = [];
  if (!open.selfClosing) {
    for (;;) {
      c.skipMisc();
      if (c.text.startsWith('</', c.at)) {
        c.at += 2;
        const closing = c.name();
        if (closing !== root) throw new XmlFormatError(`</${closing}> closes <${root}>`);
        c.skipSpace();
        c.expect('>');
        break;
      }
      if (c.at >= c.text.length) throw new XmlFormatError(`<${root}> is not closed`);
      if (c.text[c.at] !== '<') throw new XmlFormatError(`text inside <${root}> at offset ${c.at}`);
      c.at += 1;
      const tag = c.name();
      const el = c.attrs();
      if (!el.selfClosing) {
        // Allow <tag ...></tag> (empty), nothing inside.
        c.skipSpace();
        c.expect(`</${tag}`);
        c.skipSpace();
        c.expect('>');
      }
      children.push({ tag, attrs: el.attrs });
    }
  }
  c.skipMisc();
  if (c.at !== c.text.length) throw new XmlFormatError(`content after </${root}>`);
  return { root, children };
}

/** Build `<?xml version="1.0" ?><data><tag a="v" …/></data>`. */
export function buildXml(children: readonly XmlElement[], root = 'data'): string {
  const body = children
    .map(
      (el) =>
        `<${el.tag}${Object.entries(el.attrs)
          .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
          .join('')} />`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8" ?><${root}>${body}</${root}>`;
}
