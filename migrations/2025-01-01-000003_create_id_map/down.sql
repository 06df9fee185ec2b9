DROP TABLE id_map;
DROP TYPE id_map_state;
