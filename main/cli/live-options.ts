/** The live-bus flags `flashline station` and `flashline line` share (see main/station/fleet-live.ts). */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { NAME_PATTERN } from '../fleet/live/index.js';

export interface LiveFlags {
  readonly mqtt?: string;
  readonly stationName?: string;
}

function parseBrokerUrl(value: string): string {
  if (!/^mqtts?:\/\/[^/\s]+/.test(value))
    throw new InvalidArgumentError(`'${value}' is not a broker URL (mqtt://HOST:PORT or mqtts://HOST:PORT).`);
  return value;
}

function parseStationName(value: string): string {
  if (!NAME_PATTERN.test(value))
    throw new InvalidArgumentError(
      `'${value}' is not a station name (letters, digits, dot, dash, underscore).`,
    );
  return value;
}

export function withLiveOptions(command: Command): Command {
  return command
    .option(
      '--mqtt <url>',
      "publish live state to this MQTT broker (default: the fleet.json of 'flashline fleet init', if any)",
      parseBrokerUrl,
    )
    .option(
      '--station-name <name>',
      "this station's name on the live bus (default: fleet.json's, else the host name)",
      parseStationName,
    );
}
