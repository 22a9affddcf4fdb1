import { DefaultNamingStrategy, type NamingStrategyInterface } from "typeorm";

/** camelCase properties, snake_case columns: the migrations are written in snake_case. */
export class SnakeCaseNamingStrategy extends DefaultNamingStrategy implements NamingStrategyInterface {
  override columnName(propertyName: string, customName: string | undefined, prefixes: string[]): string {
    const name = customName ?? propertyName.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    return prefixes.length > 0 ? `${prefixes.join("_")}_${name}` : name;
  }
}
