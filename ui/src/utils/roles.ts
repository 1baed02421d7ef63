/** The roles whose person belongs to one hall (a 大厅负责人): the profile form asks
 * for that hall. What a role may see and do comes from the Rust side as
 * capabilities (`store.can`), never from the role's name here. */
const ROLES_WITH_A_HALL = new Set(["director"]);

export function roleHasHall(role: string): boolean {
  return ROLES_WITH_A_HALL.has(role);
}
