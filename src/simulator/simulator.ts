/**
 * The running simulator (issue #7 item 1): a Plant advanced by the monotonic clock, its register
 * image served over Modbus TCP, and the optional loopback control interface. The constructor does
 * no I/O; start() listens, stop() closes in reverse order.
 */
import type { Clock } from "../clock.js";
import { type ControlListener, listenControl } from "./controlServer.js";
import { listenModbus, type ModbusListener } from "./modbusServer.js";
import { Plant } from "./plant.js";
import type { PlantSpec } from "./plantSchema.js";
import { RegisterImage } from "./registerImage.js";

export interface SimulatorOptions {
  readonly modbusHost: string;
  readonly modbusPort: number;
  /** Omitted: no control interface. */
  readonly controlPort?: number;
  readonly controlHost?: string;
  readonly clock: Clock;
}

export interface SimulatorPorts {
  readonly modbus: number;
  readonly control?: number;
}

export class Simulator {
  readonly plant: Plant;
  private readonly image: RegisterImage;
  private modbus: ModbusListener | undefined;
  private control: ControlListener | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    spec: PlantSpec,
    private readonly options: SimulatorOptions,
  ) {
    this.plant = new Plant(spec);
    this.image = new RegisterImage(this.plant);
  }

  async start(): Promise<SimulatorPorts> {
    const origin = this.options.clock.monotonicNow();
    this.image.refresh();
    this.modbus = await listenModbus(this.image, this.options.modbusHost, this.options.modbusPort);
    if (this.options.controlPort !== undefined) {
      try {
        this.control = await listenControl(
          this.plant,
          this.options.controlHost ?? "127.0.0.1",
          this.options.controlPort,
        );
      } catch (error) {
        await this.stop();
        throw error;
      }
    }
    this.ticker = setInterval(() => {
      this.plant.advanceTo((this.options.clock.monotonicNow() - origin) / 1000);
      this.image.refresh();
    }, this.plant.spec.step);
    return {
      modbus: this.modbus.port,
      ...(this.control === undefined ? {} : { control: this.control.port }),
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    this.ticker = undefined;
    const control = this.control;
    const modbus = this.modbus;
    this.control = undefined;
    this.modbus = undefined;
    await control?.close();
    await modbus?.close();
  }
}
