DROP TABLE mappings;
DROP TYPE delete_behavior;
