/** Sinks by `type`, as configured under `sinks:`. */
import type { SinkConfig } from '../config/index.js';
import { FileSink } from './file-sink.js';
import type { SignalSink } from './sink.js';
import { StdoutSink } from './stdout-sink.js';

/** Builds the sink a config entry describes. */
export function createSink(config: SinkConfig, index: number): SignalSink {
  switch (config.type) {
    case 'stdout':
      return new StdoutSink(`stdout[${index}]`);
    case 'file':
      return new FileSink(`file[${index}]`, config.path, Math.floor(config.max_mb * 1024 * 1024));
  }
}
