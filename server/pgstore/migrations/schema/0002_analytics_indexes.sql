-- Indexes for the dashboard's questions (DESIGN.md "What leaders see") and
-- for scope filtering on sync. Coverage joins households to their visits and
-- tutoring in a period; report statistics group by status and category.

CREATE INDEX admin_units_parent ON admin_units (parent_code);
CREATE INDEX admin_unit_predecessors_from ON admin_unit_predecessors (predecessor_code);
CREATE INDEX team_hamlets_hamlet ON team_hamlets (hamlet_code);
CREATE INDEX members_team ON members (team_id);

CREATE INDEX households_hamlet ON households (hamlet_code);
CREATE INDEX visits_household_date ON visits (household_id, visited_on);
CREATE INDEX visits_hamlet_date ON visits (hamlet_code, visited_on);
CREATE INDEX tutoring_household_skill_date ON tutoring_records (household_id, skill, taught_on);
CREATE INDEX tutoring_hamlet_date ON tutoring_records (hamlet_code, taught_on);
CREATE INDEX field_reports_status_category ON field_reports (status, category);
CREATE INDEX field_reports_hamlet_submitted ON field_reports (hamlet_code, submitted_at);
