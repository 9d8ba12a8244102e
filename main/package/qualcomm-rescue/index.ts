/** Qualcomm EDL rescue packages: packing a vendor folder (pack.ts); the rescue itself is main/flash/rescue. */
export {
  MAX_LAYOUT_XML_BYTES,
  packQualcommRescue,
  type QualcommRescueOptions,
  type QualcommRescueResult,
} from './pack.js';
export { checkRescueTarget, type EdlIdentityFacts } from './target.js';
